// {{WIDTH}}-bit up counter, {{RESET_DESC}}{{ENABLE?, count enable `en`|}}.
module up_counter #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire             clk,
    input  wire             {{RST}},
// @if ENABLE
    input  wire             en,
// @endif
    output reg  [WIDTH-1:0] q
);
    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            q <= {WIDTH{1'b0}};
// @if ENABLE
        end else if (en) begin
// @else
        end else begin
// @endif
            q <= q + 1'b1;
        end
    end
endmodule
