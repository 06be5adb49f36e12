// {{WIDTH}}-bit SIPO shift register, shifting {{DIRECTION}}, {{RESET_DESC}}{{ENABLE?, enable `en`|}}.
module shift_reg_sipo #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire             clk,
    input  wire             {{RST}},
// @if ENABLE
    input  wire             en,
// @endif
    input  wire             sin,
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
// @if DIRECTION==left
            q <= {q[WIDTH-2:0], sin};
// @else
            q <= {sin, q[WIDTH-1:1]};
// @endif
        end
    end
endmodule
