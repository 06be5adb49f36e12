// 16-bit ALU: add, subtract, and, xor, set-less-than (signed), shift left by b[3:0].
module alu16(input [15:0] a, input [15:0] b, input [2:0] op, output reg [15:0] y);
  always @* begin
    case (op)
      3'd0: y = a + b;
      3'd1: y = a - b;
      3'd2: y = a & b;
      3'd3: y = a ^ b;
      3'd4: y = {15'd0, $signed(a) < $signed(b)};
      3'd5: y = a << b[3:0];
      default: y = a | b;
    endcase
  end
endmodule
