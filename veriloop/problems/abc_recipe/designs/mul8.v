// 8x8 unsigned multiplier.
module mul8(input [7:0] a, input [7:0] b, output [15:0] y);
  assign y = a * b;
endmodule
