`timescale 1ns/1ps
// Self-checking testbench for multiplier: the model multiplies by repeated shifted addition of
// sign-extended operands (independent of the * operator).
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam SIGNED = {{SIGNED}};
    reg  [WIDTH-1:0]   a, b;
    wire [2*WIDTH-1:0] p;
    reg  [2*WIDTH-1:0] ea, eb, acc;
    integer errors = 0;
    integer total = 0;
    integer i, k;
    integer seed = 43;

    multiplier dut (.a(a), .b(b), .p(p));

    task apply(input [WIDTH-1:0] x, input [WIDTH-1:0] y);
        begin
            a = x; b = y;
            ea = {{WIDTH{SIGNED[0] & x[WIDTH-1]}}, x};
            eb = {{WIDTH{SIGNED[0] & y[WIDTH-1]}}, y};
            acc = 0;
            for (k = 0; k < 2 * WIDTH; k = k + 1)
                if (eb[k]) acc = acc + (ea << k);
            #1;
            total = total + 1;
            if (p !== acc) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH a=%h b=%h p=%h expected %h", x, y, p, acc);
            end
        end
    endtask

    initial begin
        if (WIDTH <= 6) begin
            for (i = 0; i < (1 << (2 * WIDTH)); i = i + 1) apply(i >> WIDTH, i);
        end
        apply({WIDTH{1'b1}}, {WIDTH{1'b1}});
        apply({1'b1, {(WIDTH-1){1'b0}}}, {1'b1, {(WIDTH-1){1'b0}}});
        apply({1'b1, {(WIDTH-1){1'b0}}}, {WIDTH{1'b1}});
        apply({1'b0, {(WIDTH-1){1'b1}}}, {1'b1, {(WIDTH-1){1'b0}}});
        for (i = 0; i < 2000; i = i + 1) apply($random(seed), $random(seed));
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
