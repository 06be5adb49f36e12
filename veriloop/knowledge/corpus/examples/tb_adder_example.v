// Self-checking testbench example: 8-bit adder with carry, exhaustive over a subset, summary line.
`timescale 1ns/1ps
module adder8 (input wire [7:0] a, input wire [7:0] b, output wire [8:0] sum);
  assign sum = {1'b0, a} + {1'b0, b};
endmodule

module tb;
  reg  [7:0] a, b;
  wire [8:0] sum;
  integer errors = 0, total = 0, i, j;

  adder8 dut (.a(a), .b(b), .sum(sum));

  initial begin
    for (i = 0; i < 256; i = i + 17) begin
      for (j = 0; j < 256; j = j + 13) begin
        a = i; b = j;
        #1;
        total = total + 1;
        if (sum !== i + j) begin
          errors = errors + 1;
          if (errors <= 5) $display("MISMATCH a=%0d b=%0d sum=%0d expected=%0d", a, b, sum, i + j);
        end
      end
    end
    $display("Mismatches: %0d in %0d samples", errors, total);
    $finish;
  end
endmodule
