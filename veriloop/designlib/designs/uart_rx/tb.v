`timescale 1ns/1ps
// Self-checking testbench for uart_rx: a behavioural transmitter drives frames with exact bit timing,
// some with a wrong parity bit, a 0 stop bit or a short start glitch; every frame must yield exactly one
// rx_valid (with the right data) or one rx_error, and a glitch must yield nothing.
module tb;
    localparam CPB = {{CLKS_PER_BIT}};
    localparam DATA_BITS = {{DATA_BITS}};
    localparam PARITY_EN = {{PARITY==none?0|1}};
    localparam PARITY_ODD = {{PARITY==odd?1|0}};
    localparam STOP_BITS = {{STOP_BITS}};
    localparam NFRAMES = (CPB <= 64) ? 60 : 10;
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg rx = 1'b1;
    wire [DATA_BITS-1:0] rx_data;
    wire rx_valid, rx_error;
    integer nvalid = 0, nerror = 0;
    reg [DATA_BITS-1:0] last_data;
    integer errors = 0;
    integer total = 0;
    integer i, b, kind, v0, e0;
    integer seed = 131;
    reg [DATA_BITS-1:0] d;

    uart_rx dut (.clk(clk), .{{RST}}({{RST}}), .rx(rx), .rx_data(rx_data), .rx_valid(rx_valid), .rx_error(rx_error));

    always #5 clk = ~clk;

    always @(posedge clk) begin
        #1;
        if (rx_valid) begin nvalid = nvalid + 1; last_data = rx_data; end
        if (rx_error) nerror = nerror + 1;
        if (rx_valid && rx_error) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t rx_valid and rx_error together", $time);
        end
    end

    task send_bit(input v);
        begin
            rx = v;
            repeat (CPB) @(negedge clk);
        end
    endtask

    // kind 0: good frame, 1: wrong parity (only with parity), 2: 0 stop bit
    task send_frame(input [DATA_BITS-1:0] data, input integer k);
        begin
            send_bit(1'b0);
            for (b = 0; b < DATA_BITS; b = b + 1) send_bit(data[b]);
            if (PARITY_EN) send_bit((^data) ^ PARITY_ODD[0] ^ (k == 1));
            send_bit(k == 2 ? 1'b0 : 1'b1);
            if (STOP_BITS == 2) send_bit(1'b1);
            rx = 1'b1;
        end
    endtask

    task expect_result(input integer k, input [DATA_BITS-1:0] data);
        begin
            repeat (CPB + 4) @(negedge clk);
            total = total + 1;
            if (k == 0 && !(nvalid == v0 + 1 && nerror == e0 && last_data === data)) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t good frame %h: valid %0d->%0d error %0d->%0d data %h", $time, data, v0, nvalid, e0, nerror, last_data);
            end
            if (k != 0 && !(nvalid == v0 && nerror == e0 + 1)) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t bad frame kind %0d: valid %0d->%0d error %0d->%0d", $time, k, v0, nvalid, e0, nerror);
            end
        end
    endtask

    initial begin
        repeat (3) @(negedge clk);
        {{RST}} = {{RST_DEASSERT}};
        repeat (5) @(negedge clk);
        for (i = 0; i < NFRAMES; i = i + 1) begin
            v0 = nvalid; e0 = nerror;
            d = (i == 0) ? {DATA_BITS{1'b0}} : (i == 1) ? {DATA_BITS{1'b1}} : $random(seed);
            kind = (i < 4) ? 0 : (($unsigned($random(seed)) % 6) == 0) ? 2 : (PARITY_EN && ($unsigned($random(seed)) % 5) == 0) ? 1 : 0;
            if (i % 7 == 3) begin
                // a low glitch shorter than a quarter bit is not a start bit
                rx = 1'b0;
                repeat ((CPB / 4 > 0) ? CPB / 4 : 1) @(negedge clk);
                rx = 1'b1;
                repeat (2 * CPB) @(negedge clk);
                total = total + 1;
                if (nvalid != v0 || nerror != e0) begin
                    errors = errors + 1;
                    $display("MISMATCH t=%0t glitch produced output", $time);
                end
            end
            send_frame(d, kind);
            expect_result(kind, d);
            repeat ($unsigned($random(seed)) % (CPB + 1)) @(negedge clk);
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
