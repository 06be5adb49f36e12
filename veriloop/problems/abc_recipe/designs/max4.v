// Maximum of four unsigned 8-bit values, and which one it was.
module max4(input [7:0] a, input [7:0] b, input [7:0] c, input [7:0] d, output [7:0] m, output [1:0] which);
  wire ab = a >= b;
  wire cd = c >= d;
  wire [7:0] m1 = ab ? a : b;
  wire [7:0] m2 = cd ? c : d;
  wire top = m1 >= m2;
  assign m = top ? m1 : m2;
  assign which = top ? (ab ? 2'd0 : 2'd1) : (cd ? 2'd2 : 2'd3);
endmodule
