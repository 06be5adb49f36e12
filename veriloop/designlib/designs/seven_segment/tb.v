`timescale 1ns/1ps
// Self-checking testbench for seven_segment: the model lists, per segment, the set of digits that light it
// (a 16-bit mask per segment, bit d set when digit d lights the segment).
module tb;
    localparam ACTIVE_LOW = {{ACTIVE_LOW}};
    reg  [3:0] digit;
    wire [6:0] seg;
    reg [15:0] lights [0:6];
    reg [6:0] expected;
    integer errors = 0;
    integer total = 0;
    integer d, s, rep;

    seven_segment dut (.digit(digit), .seg(seg));

    initial begin
        //              FEDCBA9876543210
        lights[0] = 16'b1101011111101101;  // a: 0 2 3 5 6 7 8 9 A C E F
        lights[1] = 16'b0010011110011111;  // b: 0 1 2 3 4 7 8 9 A d
        lights[2] = 16'b0010111111111011;  // c: 0 1 3 4 5 6 7 8 9 A b d
        lights[3] = 16'b0111101101101101;  // d: 0 2 3 5 6 8 9 b C d E
        lights[4] = 16'b1111110101000101;  // e: 0 2 6 8 A b C d E F
        lights[5] = 16'b1101111101110001;  // f: 0 4 5 6 8 9 A b C E F
        lights[6] = 16'b1110111101111100;  // g: 2 3 4 5 6 8 9 A b d E F
        for (rep = 0; rep < 4; rep = rep + 1) begin
            for (d = 0; d < 16; d = d + 1) begin
                digit = (rep % 2) ? 15 - d : d;
                for (s = 0; s < 7; s = s + 1) expected[s] = lights[s][digit] ^ ACTIVE_LOW[0];
                #1;
                total = total + 1;
                if (seg !== expected) begin
                    errors = errors + 1;
                    if (errors <= 10) $display("MISMATCH digit=%h seg=%b expected %b", digit, seg, expected);
                end
            end
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
