`timescale 1ns/1ps
// Self-checking testbench for spi_master: a behavioural SPI slave of the same mode exchanges random words
// with the master; checks both directions, the edge count and half-period timing, the idle clock level,
// chip select and the done pulse.
module tb;
    localparam DATA_BITS = {{DATA_BITS}};
    localparam CLK_DIV = {{CLK_DIV}};
    localparam CPOL = {{CPOL}};
    localparam CPHA = {{CPHA}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg start = 1'b0;
    reg [DATA_BITS-1:0] tx_data = 0;
    reg miso = 1'b0;
    wire busy, done, sclk, mosi, cs_n;
    wire [DATA_BITS-1:0] rx_data;
    reg [DATA_BITS-1:0] slave_tx, slave_out, slave_rx;
    integer nedges, cyc, last_cyc;
    integer errors = 0;
    integer total = 0;
    integer i, n;
    integer seed = 137;

    spi_master dut (.clk(clk), .{{RST}}({{RST}}), .start(start), .tx_data(tx_data), .busy(busy), .done(done),
        .rx_data(rx_data), .sclk(sclk), .mosi(mosi), .miso(miso), .cs_n(cs_n));

    always #5 clk = ~clk;
    initial cyc = 0;
    always @(posedge clk) cyc = cyc + 1;

    task fail(input [8*40-1:0] what);
        begin
            errors = errors + 1;
            if (errors <= 10) $display("MISMATCH t=%0t %0s", $time, what);
        end
    endtask

    // the slave: starts a word when cs_n falls
    always @(negedge cs_n) begin
        nedges = 0;
        last_cyc = cyc;
        slave_out = slave_tx;
        slave_rx = 0;
        if (CPHA == 0) begin
            miso = slave_out[DATA_BITS-1];
            slave_out = slave_out << 1;
        end
    end

    always @(sclk) if (cs_n === 1'b0) begin
        // edge timing: every edge CLK_DIV clocks after the previous one (or after cs_n fell)
        total = total + 1;
        if (cyc - last_cyc != CLK_DIV) begin
            errors = errors + 1;
            if (errors <= 10) $display("MISMATCH t=%0t sclk edge after %0d clocks, expected %0d", $time, cyc - last_cyc, CLK_DIV);
        end
        last_cyc = cyc;
        // leading edge: sclk moves away from its idle level
        if ((sclk != CPOL) == (CPHA == 0)) begin
            slave_rx = {slave_rx[DATA_BITS-2:0], mosi};      // sample
        end else begin
            miso = slave_out[DATA_BITS-1];                   // shift
            slave_out = slave_out << 1;
        end
        nedges = nedges + 1;
    end

    // idle checks on every clock
    always @(posedge clk) begin
        #1;
        if (cs_n === 1'b1 && sclk !== CPOL[0]) fail("sclk not at its idle level while cs_n is high");
    end

    task transfer(input [DATA_BITS-1:0] m, input [DATA_BITS-1:0] s);
        begin
            @(negedge clk);
            tx_data = m; slave_tx = s; start = 1'b1;
            @(negedge clk);
            start = 1'b0;
            tx_data = ~m;                                    // master must have latched its word
            total = total + 1;
            if (busy !== 1'b1 || cs_n !== 1'b0) fail("busy/cs_n after start");
            n = 0;
            while (!done && n < 4 * DATA_BITS * CLK_DIV + 10) begin @(negedge clk); n = n + 1; end
            total = total + 1;
            if (done !== 1'b1) fail("no done pulse");
            total = total + 1;
            if (rx_data !== s || slave_rx !== m) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH master got %h expected %h; slave got %h expected %h", rx_data, s, slave_rx, m);
            end
            total = total + 1;
            if (nedges != 2 * DATA_BITS || cs_n !== 1'b1 || busy !== 1'b0) fail("edge count or end state");
            @(negedge clk);
            total = total + 1;
            if (done !== 1'b0) fail("done longer than one cycle");
        end
    endtask

    initial begin
        slave_tx = 0;
        repeat (2) @(negedge clk);
        {{RST}} = {{RST_DEASSERT}};
        transfer({DATA_BITS{1'b1}}, {DATA_BITS{1'b0}});
        transfer({DATA_BITS{1'b0}}, {DATA_BITS{1'b1}});
        for (i = 0; i < 60; i = i + 1) begin
            transfer({$random(seed), $random(seed)}, {$random(seed), $random(seed)});
            repeat ($unsigned($random(seed)) % 4) @(negedge clk);
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
