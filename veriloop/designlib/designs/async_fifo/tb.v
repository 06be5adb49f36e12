`timescale 1ns/1ps
// Self-checking testbench for async_fifo with unrelated write/read clocks. The model is a queue fed by
// accepted writes; every accepted read must return the oldest word, the flags must be safe (rempty when
// nothing is stored, wfull when DEPTH words are stored), nothing may be lost, and the FIFO must accept
// DEPTH words before it reports full.
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam DEPTH = {{DEPTH}};
    localparam QN = 65536;
    reg wclk = 1'b0, rclk = 1'b0;
    reg wrst_n = 1'b0, rrst_n = 1'b0;
    reg winc = 1'b0, rinc = 1'b0;
    reg [WIDTH-1:0] wdata = 0;
    wire [WIDTH-1:0] rdata;
    wire wfull, rempty;
    reg [WIDTH-1:0] q [0:QN-1];
    integer wr_count = 0, rd_count = 0;
    integer errors = 0;
    integer total = 0;
    integer i, wprob, rprob;
    integer wseed = 109, rseed = 113;
    reg writing_done = 1'b0;

    async_fifo dut (.wclk(wclk), .wrst_n(wrst_n), .winc(winc), .wdata(wdata), .wfull(wfull),
        .rclk(rclk), .rrst_n(rrst_n), .rinc(rinc), .rdata(rdata), .rempty(rempty));

    always #5 wclk = ~wclk;     // 100 MHz
    always #7.3 rclk = ~rclk;   // ~68 MHz, unrelated phase

    task fail(input [8*48-1:0] what);
        begin
            errors = errors + 1;
            if (errors <= 10) $display("MISMATCH t=%0t %0s wr=%0d rd=%0d rdata=%h", $time, what, wr_count, rd_count, rdata);
        end
    endtask

    // write side: decide at negedge, account at posedge
    always @(posedge wclk) if (wrst_n) begin
        if (winc && !wfull) begin
            q[wr_count % QN] = wdata;
            wr_count = wr_count + 1;
        end
        #1;
        total = total + 1;
        if (wr_count - rd_count == DEPTH && !wfull) fail("wfull low with DEPTH words stored");
    end

    always @(negedge wclk) if (wrst_n) begin
        winc = !writing_done && (($unsigned($random(wseed)) % 100) < wprob);
        wdata = {$random(wseed), $random(wseed)};
    end

    // read side
    always @(posedge rclk) if (rrst_n) begin
        if (rinc && !rempty) begin
            total = total + 1;
            if (rd_count >= wr_count) fail("read accepted from an empty FIFO");
            else if (rdata !== q[rd_count % QN]) fail("wrong read data");
            rd_count = rd_count + 1;
        end
        #1;
        total = total + 1;
        if (wr_count == rd_count && !rempty) fail("rempty low with nothing stored");
    end

    always @(negedge rclk) if (rrst_n) rinc = (($unsigned($random(rseed)) % 100) < rprob);

    initial begin
        wprob = 0; rprob = 0;
        #23 wrst_n = 1'b1; rrst_n = 1'b1;
        // fill with no reads: exactly DEPTH words must be accepted, then wfull
        wprob = 100;
        repeat (DEPTH + 8) @(posedge wclk);
        #2;
        total = total + 1;
        if (wr_count != DEPTH || !wfull) fail("fill did not stop at DEPTH");
        wprob = 0;
        // drain completely
        rprob = 100;
        repeat (DEPTH * 2 + 12) @(posedge rclk);
        #2;
        total = total + 1;
        if (rd_count != DEPTH || !rempty) fail("drain did not return DEPTH words");
        // random traffic: fast writer, slow writer
        wprob = 80; rprob = 40;
        repeat (1500) @(posedge wclk);
        wprob = 30; rprob = 90;
        repeat (1500) @(posedge wclk);
        wprob = 60; rprob = 60;
        repeat (1500) @(posedge wclk);
        writing_done = 1'b1;
        rprob = 100;
        repeat (DEPTH * 2 + 20) @(posedge rclk);
        #2;
        total = total + 1;
        if (rd_count != wr_count) fail("words lost or stuck at the end");
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
