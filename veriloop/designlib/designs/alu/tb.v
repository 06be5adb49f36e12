`timescale 1ns/1ps
// Self-checking testbench for alu: integer arithmetic model with explicit two's-complement handling.
module tb;
    localparam WIDTH = {{WIDTH}};
    reg  [WIDTH-1:0] a, b;
    reg  [2:0]       op;
    wire [WIDTH-1:0] y;
    wire             carry, zero;
    reg  [WIDTH-1:0] ey;
    reg              ec;
    reg  [WIDTH:0]   wide;
    integer errors = 0;
    integer total = 0;
    integer i, o;
    integer seed = 71;
    reg sa, sb;

    alu dut (.a(a), .b(b), .op(op), .y(y), .carry(carry), .zero(zero));

    task apply(input [WIDTH-1:0] x, input [WIDTH-1:0] z, input [2:0] o3);
        begin
            a = x; b = z; op = o3;
            ec = 1'b0;
            case (o3)
                3'd0: begin wide = x; wide = wide + z; ey = wide[WIDTH-1:0]; ec = wide[WIDTH]; end
                3'd1: begin ey = x + ~z + 1'b1; ec = (x < z); end
                3'd2: ey = x & z;
                3'd3: ey = x | z;
                3'd4: ey = x ^ z;
                3'd5: begin
                    sa = x[WIDTH-1]; sb = z[WIDTH-1];
                    ey = (sa != sb) ? {{(WIDTH-1){1'b0}}, sa} : {{(WIDTH-1){1'b0}}, (x < z)};
                end
                3'd6: begin ey = x * 2; ec = x[WIDTH-1]; end
                default: begin ey = x / 2; ec = x[0]; end
            endcase
            #1;
            total = total + 1;
            if (y !== ey || carry !== ec || zero !== (ey == 0)) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH op=%0d a=%h b=%h y=%h c=%b z=%b expected %h %b %b", o3, x, z, y, carry, zero, ey, ec, ey == 0);
            end
        end
    endtask

    initial begin
        if (WIDTH <= 4) begin
            for (i = 0; i < (1 << (2 * WIDTH + 3)); i = i + 1) apply(i >> (WIDTH + 3), i >> 3, i);
        end
        for (i = 0; i < 3000; i = i + 1) begin
            o = i % 8;
            case (i % 5)
                0: apply({$random(seed), $random(seed)}, {$random(seed), $random(seed)}, o);
                1: apply({WIDTH{1'b1}}, {$random(seed), $random(seed)}, o);
                2: apply({1'b1, {(WIDTH-1){1'b0}}}, {$random(seed), $random(seed)}, o);
                3: begin a = {$random(seed), $random(seed)}; apply(a, a, o); end
                default: apply({$random(seed), $random(seed)}, 0, o);
            endcase
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
