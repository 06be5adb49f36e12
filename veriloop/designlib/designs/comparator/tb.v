`timescale 1ns/1ps
// Self-checking testbench for comparator: the model flips the sign bits (signed) and compares
// bit by bit from the MSB down.
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam SIGNED = {{SIGNED}};
    reg  [WIDTH-1:0] a, b, ua, ub;
    wire lt, eq, gt;
    reg e_lt, e_gt, decided;
    integer errors = 0;
    integer total = 0;
    integer i, k;
    integer seed = 61;

    comparator dut (.a(a), .b(b), .lt(lt), .eq(eq), .gt(gt));

    task apply(input [WIDTH-1:0] x, input [WIDTH-1:0] y);
        begin
            a = x; b = y;
            ua = x; ub = y;
            if (SIGNED) begin ua[WIDTH-1] = ~x[WIDTH-1]; ub[WIDTH-1] = ~y[WIDTH-1]; end
            e_lt = 1'b0; e_gt = 1'b0; decided = 1'b0;
            for (k = WIDTH - 1; k >= 0; k = k - 1)
                if (!decided && ua[k] != ub[k]) begin
                    decided = 1'b1; e_lt = ub[k]; e_gt = ua[k];
                end
            #1;
            total = total + 1;
            if (lt !== e_lt || gt !== e_gt || eq !== !decided) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH a=%h b=%h lt/eq/gt=%b%b%b expected %b%b%b", x, y, lt, eq, gt, e_lt, !decided, e_gt);
            end
        end
    endtask

    initial begin
        if (WIDTH <= 6) for (i = 0; i < (1 << (2 * WIDTH)); i = i + 1) apply(i >> WIDTH, i);
        for (i = 0; i < 1500; i = i + 1) begin
            a = {$random(seed), $random(seed)};
            // often nearly equal operands
            case (i % 3)
                0: apply(a, {$random(seed), $random(seed)});
                1: apply(a, a);
                default: apply(a, a ^ ({{(WIDTH-1){1'b0}}, 1'b1} << ($unsigned($random(seed)) % WIDTH)));
            endcase
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
