// {{EDGE}} edge detector, {{RESET_DESC}}.
module edge_detector (
    input  wire clk,
    input  wire {{RST}},
    input  wire sig,
    output wire pulse
);
    reg prev;

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) prev <= 1'b0;
        else            prev <= sig;
    end

// @if EDGE==rising
    assign pulse = sig & ~prev;
// @elif EDGE==falling
    assign pulse = ~sig & prev;
// @else
    assign pulse = sig ^ prev;
// @endif
endmodule
