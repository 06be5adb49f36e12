`timescale 1ns/1ps
// Self-checking testbench for shift_reg_sipo: the model keeps the serial history bit by bit.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam WIDTH = {{WIDTH}};
    localparam HAS_EN = {{ENABLE}};
    localparam LEFT = {{DIRECTION==left?1|0}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg en = 1'b0;
    reg sin = 1'b0;
    wire [WIDTH-1:0] q;
    reg [WIDTH-1:0] model;
    integer errors = 0;
    integer total = 0;
    integer i, k;
    integer seed = 17;

    shift_reg_sipo dut (.clk(clk), .{{RST}}({{RST}}),
// @if ENABLE
        .en(en),
// @endif
        .sin(sin), .q(q));

    always #5 clk = ~clk;

    task step(input r, input e, input s);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            en = e; sin = s;
            @(posedge clk);
            if (r) model = 0;
            else if (e || !HAS_EN) begin
                if (LEFT) begin
                    for (k = WIDTH - 1; k > 0; k = k - 1) model[k] = model[k - 1];
                    model[0] = s;
                end else begin
                    for (k = 0; k < WIDTH - 1; k = k + 1) model[k] = model[k + 1];
                    model[WIDTH - 1] = s;
                end
            end
            #1;
            total = total + 1;
            if (q !== model) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t q=%b expected %b", $time, q, model);
            end
        end
    endtask

    initial begin
        model = 0;
        step(1, 0, 1);
        step(0, 1, 1);
        for (i = 0; i < WIDTH + 2; i = i + 1) step(0, 1, 0);
        for (i = 0; i < 600; i = i + 1) step(($random(seed) % 101) == 0, ($random(seed) % 3) != 0, $random(seed) & 1);
        // reset asserted between clock edges: an asynchronous reset acts at once, a synchronous one waits
        step(0, 1, 1);
        @(negedge clk);
        {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (q !== (ASYNC ? {WIDTH{1'b0}} : model)) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: q=%h (reset is %0s)", $time, q, ASYNC ? "asynchronous" : "synchronous");
        end
        step(1, 0, 0);
        step(0, 1, 1);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
