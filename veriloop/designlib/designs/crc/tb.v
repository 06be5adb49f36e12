`timescale 1ns/1ps
// Self-checking testbench for crc: a bit-serial model over the byte stream, plus the catalogue check
// value of "123456789" for the standard CRC-8/SMBUS, CRC-16/CCITT-FALSE and CRC-32/MPEG-2 settings.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam W = {{CRC_WIDTH}};
    localparam [W-1:0] POLY = {{POLY}};
    localparam [W-1:0] INIT = {{INIT}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg clear = 1'b0, valid = 1'b0;
    reg [7:0] data = 8'h00;
    wire [W-1:0] crc;
    reg [W-1:0] model;
    reg fb;
    reg [8*9-1:0] digits;
    reg [31:0] check_value;
    reg known;
    integer errors = 0;
    integer total = 0;
    integer i, k;
    integer seed = 79;

    crc_gen dut (.clk(clk), .{{RST}}({{RST}}), .clear(clear), .valid(valid), .data(data), .crc(crc));

    always #5 clk = ~clk;

    task compare;
        begin
            total = total + 1;
            if (crc !== model) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t crc=%h expected %h", $time, crc, model);
            end
        end
    endtask

    task step(input r, input c, input v, input [7:0] byte_in);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            clear = c; valid = v; data = byte_in;
            @(posedge clk);
            if (r || c) model = INIT;
            else if (v) begin
                for (k = 7; k >= 0; k = k - 1) begin
                    fb = model[W-1] ^ byte_in[k];
                    model = {model[W-2:0], 1'b0};
                    if (fb) model = model ^ POLY;
                end
            end
            #1 compare;
        end
    endtask

    initial begin
        model = INIT;
        step(1, 0, 0, 0);
        digits = "123456789";
        for (i = 8; i >= 0; i = i - 1) step(0, 0, 1, digits[8*i +: 8]);
        known = 1'b1;
        if (W == 8 && POLY == 8'h07 && INIT == 0) check_value = 32'hF4;
        else if (W == 16 && POLY == 16'h1021 && INIT == 16'hFFFF) check_value = 32'h29B1;
        else if (W == 32 && POLY == 32'h04C11DB7 && INIT == 32'hFFFFFFFF) check_value = 32'h0376E6E7;
        else known = 1'b0;
        if (known) begin
            total = total + 1;
            if (crc !== check_value[W-1:0]) begin
                errors = errors + 1;
                $display("MISMATCH check value of 123456789: crc=%h expected %h", crc, check_value[W-1:0]);
            end
        end
        step(0, 1, 1, 8'hA5);  // clear wins over valid
        for (i = 0; i < 800; i = i + 1)
            step(($random(seed) % 201) == 0, ($random(seed) % 37) == 0, ($random(seed) % 4) != 0, $random(seed));
        // reset asserted between clock edges: an asynchronous reset acts at once, a synchronous one waits
        step(0, 0, 1, 8'h5A);
        while (model == INIT) step(0, 0, 1, 8'hA5);
        @(negedge clk);
        {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (crc !== (ASYNC ? INIT : model)) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: crc=%h (reset is %0s)", $time, crc, ASYNC ? "asynchronous" : "synchronous");
        end
        step(1, 0, 0, 8'h00);
        step(0, 0, 1, 8'h3C);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
