// 16-input priority encoder: index of the highest set bit, and a valid flag.
module prio16(input [15:0] req, output reg [3:0] idx, output valid);
  integer i;
  assign valid = |req;
  always @* begin
    idx = 4'd0;
    for (i = 0; i < 16; i = i + 1)
      if (req[i]) idx = i[3:0];
  end
endmodule
