`timescale 1ns/1ps
// Self-checking testbench for sync_fifo: a circular-array queue model with its own head/tail counters.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam WIDTH = {{WIDTH}};
    localparam DEPTH = {{DEPTH}};
    localparam AW = $clog2(DEPTH);
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg wr_en = 1'b0, rd_en = 1'b0;
    reg [WIDTH-1:0] din = 0;
    wire full, empty;
    wire [WIDTH-1:0] dout;
    wire [AW:0] count;
    reg [WIDTH-1:0] q [0:DEPTH-1];
    integer head, size;
    reg [WIDTH-1:0] exp_dout;
    reg wr_ok, rd_ok;
    integer errors = 0;
    integer total = 0;
    integer i, phase;
    integer seed = 107;

    sync_fifo dut (.clk(clk), .{{RST}}({{RST}}), .wr_en(wr_en), .din(din), .full(full),
        .rd_en(rd_en), .dout(dout), .empty(empty), .count(count));

    always #5 clk = ~clk;

    task step(input r, input w, input [WIDTH-1:0] d, input rd);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            wr_en = w; din = d; rd_en = rd;
            @(posedge clk);
            if (r) begin
                head = 0; size = 0; exp_dout = 0;
            end else begin
                wr_ok = w && size < DEPTH;
                rd_ok = rd && size > 0;
                if (rd_ok) begin exp_dout = q[head]; head = (head + 1) % DEPTH; size = size - 1; end
                if (wr_ok) begin q[(head + size) % DEPTH] = d; size = size + 1; end
            end
            #1;
            total = total + 1;
            if (dout !== exp_dout || count !== size || full !== (size == DEPTH) || empty !== (size == 0)) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t dout=%h exp %h count=%0d exp %0d full=%b empty=%b", $time, dout, exp_dout, count, size, full, empty);
            end
        end
    endtask

    initial begin
        head = 0; size = 0; exp_dout = 0;
        step(1, 0, 0, 0);
        step(0, 0, 0, 1);                                                   // read when empty: ignored
        for (i = 0; i < DEPTH + 3; i = i + 1) step(0, 1, $random(seed), 0);  // fill past full
        step(0, 1, $random(seed), 1);                                       // read+write when full
        for (i = 0; i < DEPTH + 3; i = i + 1) step(0, 0, 0, 1);             // drain past empty
        for (phase = 0; phase < 6; phase = phase + 1)
            for (i = 0; i < 300; i = i + 1)
                // phases alternate write-heavy, read-heavy and balanced traffic
                step(($random(seed) % 500) == 0,
                     ($unsigned($random(seed)) % 4) < ((phase % 3 == 0) ? 3 : (phase % 3 == 1) ? 1 : 2),
                     {$random(seed), $random(seed)},
                     ($unsigned($random(seed)) % 4) < ((phase % 3 == 0) ? 1 : (phase % 3 == 1) ? 3 : 2));
        // reset asserted between clock edges: an asynchronous reset empties the FIFO at once
        step(0, 1, {$random(seed), $random(seed)}, 0);
        step(0, 1, {$random(seed), $random(seed)}, 0);
        @(negedge clk);
        wr_en = 1'b0; rd_en = 1'b0;
        {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (count !== (ASYNC ? 0 : size) || empty !== (ASYNC ? 1'b1 : (size == 0))) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: count=%0d empty=%b", $time, count, empty);
        end
        step(1, 0, 0, 0);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
