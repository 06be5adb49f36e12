`timescale 1ns/1ps
// Self-checking testbench for uart_tx: a behavioural receiver samples the line in the middle of every bit
// and checks start, data (LSB first), parity and stop bits, the frame length, and that no frame is lost.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam CPB = {{CLKS_PER_BIT}};
    localparam DATA_BITS = {{DATA_BITS}};
    localparam PARITY_EN = {{PARITY==none?0|1}};
    localparam PARITY_ODD = {{PARITY==odd?1|0}};
    localparam STOP_BITS = {{STOP_BITS}};
    localparam FRAME = 1 + DATA_BITS + PARITY_EN + STOP_BITS;
    localparam NFRAMES = (CPB <= 64) ? 40 : 8;
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg tx_start = 1'b0;
    reg [DATA_BITS-1:0] tx_data = 0;
    wire tx, busy;
    reg [DATA_BITS-1:0] sent [0:255];
    integer nsent = 0, nrecv = 0;
    integer cyc = 0;
    integer errors = 0;
    integer total = 0;
    integer i, b, c0;
    integer seed = 127;
    reg [DATA_BITS-1:0] got;
    reg pbit;

    uart_tx dut (.clk(clk), .{{RST}}({{RST}}), .tx_start(tx_start), .tx_data(tx_data), .tx(tx), .busy(busy));

    always #5 clk = ~clk;
    always @(posedge clk) cyc <= cyc + 1;

    task fail(input [8*32-1:0] what);
        begin
            errors = errors + 1;
            if (errors <= 10) $display("MISMATCH t=%0t frame %0d: %0s got=%h", $time, nrecv, what, got);
        end
    endtask

    // receiver / monitor
    initial begin
        forever begin
            @(negedge tx);
            c0 = cyc;
            repeat (CPB / 2) @(posedge clk);
            #1 total = total + 1;
            if (tx !== 1'b0) fail("start bit not held");
            for (b = 0; b < DATA_BITS; b = b + 1) begin
                repeat (CPB) @(posedge clk);
                #1 got[b] = tx;
            end
            total = total + 1;
            if (nrecv >= nsent) fail("frame nobody asked for");
            else if (got !== sent[nrecv]) fail("data");
            if (PARITY_EN) begin
                repeat (CPB) @(posedge clk);
                #1 pbit = tx;
                total = total + 1;
                if (pbit !== ((^got) ^ PARITY_ODD[0])) fail("parity");
            end
            for (b = 0; b < STOP_BITS; b = b + 1) begin
                repeat (CPB) @(posedge clk);
                #1 total = total + 1;
                if (tx !== 1'b1) fail("stop bit");
            end
            // busy must fall exactly at the end of the last stop bit
            while (busy === 1'b1) @(posedge clk);
            total = total + 1;
            if (cyc - c0 != FRAME * CPB) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH frame %0d lasted %0d cycles, expected %0d", nrecv, cyc - c0, FRAME * CPB);
            end
            nrecv = nrecv + 1;
        end
    end

    initial begin
        repeat (2) @(posedge clk);
        #1 total = total + 1;
        if (tx !== 1'b1 || busy !== 1'b0) fail("idle level after reset");
        @(negedge clk) {{RST}} = {{RST_DEASSERT}};
        for (i = 0; i < NFRAMES; i = i + 1) begin
            @(negedge clk);
            while (busy) @(negedge clk);
            if (i % 3 == 0) repeat ($unsigned($random(seed)) % (2 * CPB)) @(negedge clk);
            tx_data = (i == 0) ? {DATA_BITS{1'b0}} : (i == 1) ? {DATA_BITS{1'b1}} : $random(seed);
            tx_start = 1'b1;
            sent[nsent] = tx_data;
            nsent = nsent + 1;
            @(negedge clk);
            // a start request while busy must be ignored
            tx_data = ~tx_data;
            tx_start = (i % 2 == 0);
            @(negedge clk);
            tx_start = 1'b0;
        end
        @(negedge clk);
        while (busy) @(negedge clk);
        repeat (3 * CPB) @(negedge clk);
        total = total + 1;
        if (nrecv != nsent) begin
            errors = errors + 1;
            $display("MISMATCH received %0d frames, sent %0d", nrecv, nsent);
        end
        // reset asserted between clock edges during a frame: an asynchronous reset idles the line at once
        @(negedge clk);
        tx_data = $random(seed);
        tx_start = 1'b1;
        @(negedge clk);
        tx_start = 1'b0;
        {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (busy !== (ASYNC ? 1'b0 : 1'b1) || tx !== (ASYNC ? 1'b1 : 1'b0)) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: busy=%b tx=%b", $time, busy, tx);
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
