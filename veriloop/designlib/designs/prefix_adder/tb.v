`timescale 1ns/1ps
// Self-checking testbench for prefix_adder: compares against the + operator of the simulator on WIDTH+1 bits.
module tb;
    localparam WIDTH = {{WIDTH}};
    reg  [WIDTH-1:0] a, b;
    reg              cin;
    wire [WIDTH-1:0] sum;
    wire             cout;
    reg  [WIDTH:0]   expected;
    integer errors = 0;
    integer total = 0;
    integer i;
    integer seed = 41;

    prefix_adder dut (.a(a), .b(b), .cin(cin), .sum(sum), .cout(cout));

    task apply(input [WIDTH-1:0] x, input [WIDTH-1:0] y, input c);
        begin
            a = x; b = y; cin = c;
            expected = {1'b0, x} + {1'b0, y} + {{WIDTH{1'b0}}, c};
            #1;
            total = total + 1;
            if ({cout, sum} !== expected) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH a=%h b=%h cin=%b got %h expected %h", x, y, c, {cout, sum}, expected);
            end
        end
    endtask

    initial begin
        if (WIDTH <= 5) begin
            for (i = 0; i < (1 << (2 * WIDTH + 1)); i = i + 1) apply(i >> (WIDTH + 1), i >> 1, i & 1);
        end
        apply({WIDTH{1'b1}}, {WIDTH{1'b0}}, 1'b1);
        apply({WIDTH{1'b1}}, {WIDTH{1'b1}}, 1'b1);
        apply({WIDTH{1'b0}}, {WIDTH{1'b0}}, 1'b0);
        for (i = 0; i < 2000; i = i + 1) apply({$random(seed), $random(seed)}, {$random(seed), $random(seed)}, $random(seed) & 1);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
