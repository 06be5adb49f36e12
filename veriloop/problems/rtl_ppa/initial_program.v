// popcount16: count the set bits of a 16-bit input. Evolve the implementation for fewer cells and
// a shorter logic depth; it must stay formally equivalent to the reference (the synthesised
// netlist is SAT-proved against reference.v). Interface fixed: popcount16(in[15:0], count[4:0]).
// Combinational logic only: no `include, initial blocks, system tasks, blackboxes or flip-flops.
module popcount16(input [15:0] in, output [4:0] count);
  // EVOLVE-BLOCK-START
  // Ripple chains of GROUP bits each (acc[i+1] = acc[i] + in[i], restarting at every group),
  // then the group totals are added.
  localparam integer GROUP = 12;
  wire [4:0] acc [0:16];
  genvar i, j;
  generate
    for (i = 0; i < 16; i = i + 1) begin : stage
      wire [4:0] prev = (i % GROUP == 0) ? 5'd0 : acc[i];
      wire [5:0] carry;
      assign carry[0] = in[i];
      for (j = 0; j < 5; j = j + 1) begin : bit_
        assign acc[i + 1][j] = prev[j] ^ carry[j];
        assign carry[j + 1] = prev[j] & carry[j];
      end
    end
  endgenerate
  reg [4:0] total;
  integer k;
  always @* begin
    total = 5'd0;
    for (k = 1; k <= 16; k = k + 1)
      if (k % GROUP == 0 || k == 16) total = total + acc[k];
  end
  assign count = total;
  // EVOLVE-BLOCK-END
endmodule
