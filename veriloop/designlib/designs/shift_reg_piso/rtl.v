// {{WIDTH}}-bit PISO shift register, {{ORDER}}, {{RESET_DESC}}.
module shift_reg_piso #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire             clk,
    input  wire             {{RST}},
    input  wire             load,
    input  wire [WIDTH-1:0] d,
    output wire             sout
);
    reg [WIDTH-1:0] sreg;

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            sreg <= {WIDTH{1'b0}};
        end else if (load) begin
            sreg <= d;
        end else begin
// @if ORDER==msb_first
            sreg <= {sreg[WIDTH-2:0], 1'b0};
// @else
            sreg <= {1'b0, sreg[WIDTH-1:1]};
// @endif
        end
    end

// @if ORDER==msb_first
    assign sout = sreg[WIDTH-1];
// @else
    assign sout = sreg[0];
// @endif
endmodule
