`timescale 1ns/1ps
// Self-checking testbench for pwm: per-cycle model plus high-time count over whole periods.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam PERIOD = {{PERIOD}};
    localparam W = $clog2(PERIOD);
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg [W-1:0] duty = 0;
    wire pwm_out;
    integer cnt = 0;
    reg expected;
    integer errors = 0;
    integer total = 0;
    integer i, p, highs, want;
    integer seed = 31;

    pwm dut (.clk(clk), .{{RST}}({{RST}}), .duty(duty), .pwm_out(pwm_out));

    always #5 clk = ~clk;

    task cycle;
        begin
            @(posedge clk);
            expected = (cnt < duty);
            cnt = (cnt + 1) % PERIOD;
            #1;
            total = total + 1;
            if (pwm_out !== expected) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t duty=%0d pwm_out=%b expected %b", $time, duty, pwm_out, expected);
            end
        end
    endtask

    initial begin
        @(posedge clk); #1;
        total = total + 1;
        if (pwm_out !== 1'b0) errors = errors + 1;
        @(negedge clk) {{RST}} = {{RST_DEASSERT}};
        for (p = 0; p < 12; p = p + 1) begin
            case (p)
                0: duty = 0;
                1: duty = {W{1'b1}};
                2: duty = 1;
                3: duty = PERIOD / 2;
                default: duty = $random(seed);
            endcase
            highs = 0;
            for (i = 0; i < PERIOD; i = i + 1) begin
                cycle;
                highs = highs + pwm_out;
            end
            // each window of PERIOD cycles visits every counter value once: min(duty, PERIOD) highs
            want = (duty < PERIOD) ? duty : PERIOD;
            begin
                total = total + 1;
                if (highs != want) begin
                    errors = errors + 1;
                    $display("MISMATCH duty=%0d highs per period %0d expected %0d", duty, highs, want);
                end
            end
        end
        // reset asserted between clock edges: an asynchronous reset clears pwm_out at once
        duty = {W{1'b1}};
        cycle;
        while (pwm_out !== 1'b1) cycle;
        @(negedge clk);
        {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (pwm_out !== (ASYNC ? 1'b0 : 1'b1)) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: pwm_out=%b", $time, pwm_out);
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end

endmodule
