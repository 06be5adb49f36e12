`timescale 1ns/1ps
// Self-checking testbench for register_file: an array model, reads checked before and after each write edge.
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam DEPTH = {{DEPTH}};
    localparam AW = $clog2(DEPTH);
    localparam R0_ZERO = {{R0_ZERO}};
    reg clk = 1'b0;
    reg we = 1'b0;
    reg [AW-1:0] waddr = 0, raddr1 = 0, raddr2 = 0;
    reg [WIDTH-1:0] wdata = 0;
    wire [WIDTH-1:0] rdata1, rdata2;
    reg [WIDTH-1:0] model [0:DEPTH-1];
    reg [WIDTH-1:0] e1, e2;
    integer errors = 0;
    integer total = 0;
    integer i;
    integer seed = 89;

    register_file dut (.clk(clk), .we(we), .waddr(waddr), .wdata(wdata),
        .raddr1(raddr1), .rdata1(rdata1), .raddr2(raddr2), .rdata2(rdata2));

    always #5 clk = ~clk;

    task check_reads;
        begin
            e1 = (R0_ZERO && raddr1 == 0) ? {WIDTH{1'b0}} : model[raddr1];
            e2 = (R0_ZERO && raddr2 == 0) ? {WIDTH{1'b0}} : model[raddr2];
            total = total + 1;
            if (rdata1 !== e1 || rdata2 !== e2) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t r1[%0d]=%h exp %h r2[%0d]=%h exp %h", $time, raddr1, rdata1, e1, raddr2, rdata2, e2);
            end
        end
    endtask

    task cycle(input w, input [AW-1:0] wa, input [WIDTH-1:0] wd, input [AW-1:0] a1, input [AW-1:0] a2);
        begin
            @(negedge clk);
            we = w; waddr = wa; wdata = wd; raddr1 = a1; raddr2 = a2;
            #1 check_reads;            // old contents before the edge
            @(posedge clk);
            if (w && !(R0_ZERO && wa == 0)) model[wa] = wd;
            #1 check_reads;            // new contents after the edge
        end
    endtask

    initial begin
        // fill every register first (there is no reset)
        for (i = 0; i < DEPTH; i = i + 1) cycle(1'b1, i, {$random(seed), $random(seed)}, i, (i + 1) % DEPTH);
        for (i = 0; i < 1500; i = i + 1)
            cycle($random(seed) & 1, $random(seed), {$random(seed), $random(seed)}, $random(seed), (i % 4 == 0) ? waddr : $random(seed));
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
