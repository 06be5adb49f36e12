`timescale 1ns/1ps
// Self-checking testbench for shift_reg_piso: the model remembers the loaded word and the bit index.
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam MSB_FIRST = {{ORDER==msb_first?1|0}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg load = 1'b0;
    reg [WIDTH-1:0] d = 0;
    wire sout;
    reg [WIDTH-1:0] word;
    integer idx;          // how many bits have been shifted out since the load
    reg expected;
    integer errors = 0;
    integer total = 0;
    integer i, n;
    integer seed = 23;

    shift_reg_piso dut (.clk(clk), .{{RST}}({{RST}}), .load(load), .d(d), .sout(sout));

    always #5 clk = ~clk;

    task step(input r, input l, input [WIDTH-1:0] data);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            load = l; d = data;
            @(posedge clk);
            if (r) begin word = 0; idx = 0; end
            else if (l) begin word = data; idx = 0; end
            else idx = idx + 1;
            if (idx >= WIDTH) expected = 1'b0;
            else expected = MSB_FIRST ? word[WIDTH - 1 - idx] : word[idx];
            #1;
            total = total + 1;
            if (sout !== expected) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t sout=%b expected %b (word %h bit %0d)", $time, sout, expected, word, idx);
            end
        end
    endtask

    initial begin
        word = 0; idx = 0;
        step(1, 0, 0);
        for (n = 0; n < 40; n = n + 1) begin
            step(0, 1, {$random(seed), $random(seed)});
            for (i = 0; i < WIDTH + 1; i = i + 1) step(0, 0, {$random(seed), $random(seed)});
        end
        for (i = 0; i < 300; i = i + 1) step(($random(seed) % 71) == 0, ($random(seed) % 9) == 0, $random(seed));
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
