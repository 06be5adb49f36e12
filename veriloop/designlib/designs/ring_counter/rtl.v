// {{WIDTH}}-bit {{KIND==ring?one-hot ring|Johnson}} counter, {{RESET_DESC}}{{ENABLE?, enable `en`|}}.
module ring_counter #(
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
// @if KIND==ring
            q <= {{(WIDTH-1){1'b0}}, 1'b1};
// @else
            q <= {WIDTH{1'b0}};
// @endif
// @if ENABLE
        end else if (en) begin
// @else
        end else begin
// @endif
// @if KIND==ring
            q <= {q[WIDTH-2:0], q[WIDTH-1]};
// @else
            q <= {q[WIDTH-2:0], ~q[WIDTH-1]};
// @endif
        end
    end
endmodule
