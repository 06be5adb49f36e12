// {{WIDTH}}-bit ALU: add, sub, and, or, xor, signed slt, shl1, shr1 with carry and zero flags.
module alu #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire [WIDTH-1:0] a,
    input  wire [WIDTH-1:0] b,
    input  wire [2:0]       op,
    output reg  [WIDTH-1:0] y,
    output reg              carry,
    output wire             zero
);
    localparam [2:0] OP_ADD = 3'd0, OP_SUB = 3'd1, OP_AND = 3'd2, OP_OR = 3'd3,
                     OP_XOR = 3'd4, OP_SLT = 3'd5, OP_SHL = 3'd6, OP_SHR = 3'd7;

    always @* begin
        carry = 1'b0;
        case (op)
            OP_ADD: {carry, y} = {1'b0, a} + {1'b0, b};
            OP_SUB: {carry, y} = {1'b0, a} - {1'b0, b};
            OP_AND: y = a & b;
            OP_OR:  y = a | b;
            OP_XOR: y = a ^ b;
            OP_SLT: y = {{(WIDTH-1){1'b0}}, $signed(a) < $signed(b)};
            OP_SHL: {carry, y} = {a, 1'b0};
            OP_SHR: {y, carry} = {1'b0, a};
            default: y = {WIDTH{1'b0}};
        endcase
    end

    assign zero = (y == {WIDTH{1'b0}});
endmodule
