`timescale 1ns/1ps
// Self-checking testbench for dual_port_ram: an array model updated after the read of the same edge.
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam DEPTH = {{DEPTH}};
    localparam AW = $clog2(DEPTH);
    reg clk = 1'b0;
    reg we = 1'b0, re = 1'b0;
    reg [AW-1:0] waddr = 0, raddr = 0;
    reg [WIDTH-1:0] wdata = 0;
    wire [WIDTH-1:0] rdata;
    reg [WIDTH-1:0] model [0:DEPTH-1];
    reg [WIDTH-1:0] expected;
    integer errors = 0;
    integer total = 0;
    integer i;
    integer seed = 97;

    dual_port_ram dut (.clk(clk), .we(we), .waddr(waddr), .wdata(wdata),
        .re(re), .raddr(raddr), .rdata(rdata));

    always #5 clk = ~clk;

    task cycle(input w, input [AW-1:0] wa, input [WIDTH-1:0] wd, input r, input [AW-1:0] ra, input chk);
        begin
            @(negedge clk);
            we = w; waddr = wa; wdata = wd; re = r; raddr = ra;
            @(posedge clk);
            if (r) expected = model[ra];
            if (w) model[wa] = wd;
            #1;
            if (chk) begin
                total = total + 1;
                if (rdata !== expected) begin
                    errors = errors + 1;
                    if (errors <= 10) $display("MISMATCH t=%0t raddr=%0d rdata=%h expected %h", $time, ra, rdata, expected);
                end
            end
        end
    endtask

    initial begin
        for (i = 0; i < DEPTH; i = i + 1) cycle(1'b1, i, {$random(seed), $random(seed)}, 1'b0, 0, 1'b0);
        cycle(1'b0, 0, 0, 1'b1, 0, 1'b1);
        for (i = 0; i < 2000; i = i + 1) begin
            if (i % 5 == 0) begin
                // read-during-write to the same address returns the old word
                waddr = $random(seed);
                cycle(1'b1, waddr, {$random(seed), $random(seed)}, 1'b1, waddr, 1'b1);
            end else begin
                cycle($random(seed) & 1, $random(seed), {$random(seed), $random(seed)}, ($random(seed) % 4) != 0, $random(seed), 1'b1);
            end
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
