// {{WIDTH}}-bit Fibonacci LFSR, taps {{TAPS_HEX}}, seed {{SEED}}, {{RESET_DESC}}{{ENABLE?, enable `en`|}}.
module lfsr #(
    parameter WIDTH = {{WIDTH}},
    parameter [WIDTH-1:0] TAPS = {{TAPS}},
    parameter [WIDTH-1:0] SEED = {{SEED}}
) (
    input  wire             clk,
    input  wire             {{RST}},
// @if ENABLE
    input  wire             en,
// @endif
    output reg  [WIDTH-1:0] q
);
    wire fb = ^(q & TAPS);

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            q <= SEED;
// @if ENABLE
        end else if (en) begin
// @else
        end else begin
// @endif
            q <= {q[WIDTH-2:0], fb};
        end
    end
endmodule
