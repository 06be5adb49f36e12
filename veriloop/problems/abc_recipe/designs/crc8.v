// CRC-8 (polynomial 0x07) of 16 data bits in one combinational step, with a running CRC input.
module crc8(input [15:0] data, input [7:0] crc_in, output [7:0] crc_out);
  function [7:0] step(input [7:0] c, input bit_in);
    reg fb;
    begin
      fb = c[7] ^ bit_in;
      step = {c[6:0], 1'b0} ^ (fb ? 8'h07 : 8'h00);
    end
  endfunction
  integer i;
  reg [7:0] c;
  always @* begin
    c = crc_in;
    for (i = 15; i >= 0; i = i - 1)
      c = step(c, data[i]);
  end
  assign crc_out = c;
endmodule
