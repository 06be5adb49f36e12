// Detector of the sequence {{PATTERN}} ({{OVERLAP?overlapping|non-overlapping}}), {{RESET_DESC}}.
module seq_detector #(
    parameter L = {{PATTERN_LEN}},
    parameter [L-1:0] PATTERN = {{PATTERN_VLOG}},
    parameter CW = $clog2(L + 1)
) (
    input  wire clk,
    input  wire {{RST}},
    input  wire din,
    output reg  detected
);
    localparam [31:0] L32 = L;
    localparam [CW-1:0] FULL = L32[CW-1:0];

    reg  [L-2:0]  hist;   // the previous L-1 bits, most recent in hist[0]
    reg  [CW-1:0] fill;   // valid bits in hist, saturating at L
    wire [L-1:0]  hist_next = {hist, din};
    wire          full_next = (fill >= FULL - 1'b1);
    wire          match = full_next && (hist_next == PATTERN);

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            hist     <= {(L-1){1'b0}};
            fill     <= {CW{1'b0}};
            detected <= 1'b0;
        end else begin
            hist     <= hist_next[L-2:0];
            detected <= match;
// @if OVERLAP
            if (fill != FULL) fill <= fill + 1'b1;
// @else
            if (match)             fill <= {CW{1'b0}};
            else if (fill != FULL) fill <= fill + 1'b1;
// @endif
        end
    end
endmodule
