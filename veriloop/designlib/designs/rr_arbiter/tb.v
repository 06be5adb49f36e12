`timescale 1ns/1ps
// Self-checking testbench for rr_arbiter: a pointer model picks the expected grant each cycle, and a
// starvation monitor checks that a held request is granted within N cycles.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam N = {{N}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg [N-1:0] req = 0;
    wire [N-1:0] grant;
    reg [N-1:0] expected;
    integer ptr;
    integer wait_cycles [0:N-1];
    integer errors = 0;
    integer total = 0;
    integer i, k, c;
    integer seed = 83;
    reg done;

    rr_arbiter dut (.clk(clk), .{{RST}}({{RST}}), .req(req), .grant(grant));

    always #5 clk = ~clk;

    task step(input r, input [N-1:0] rq);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            req = rq;
            #1;
            if (!r) begin
                expected = 0; done = 1'b0;
                for (k = 0; k < N; k = k + 1) begin
                    c = (ptr + k) % N;
                    if (!done && rq[c]) begin expected[c] = 1'b1; done = 1'b1; end
                end
                total = total + 1;
                if (grant !== expected) begin
                    errors = errors + 1;
                    if (errors <= 10) $display("MISMATCH t=%0t ptr=%0d req=%b grant=%b expected %b", $time, ptr, rq, grant, expected);
                end
                for (k = 0; k < N; k = k + 1) begin
                    if (rq[k] && !grant[k]) wait_cycles[k] = wait_cycles[k] + 1; else wait_cycles[k] = 0;
                    if (wait_cycles[k] >= N) begin
                        errors = errors + 1;
                        total = total + 1;
                        $display("STARVATION requester %0d waited %0d cycles", k, wait_cycles[k]);
                        wait_cycles[k] = 0;
                    end
                end
            end
            @(posedge clk);
            if (r) ptr = 0;
            else if (done) begin
                for (k = 0; k < N; k = k + 1) if (expected[k]) ptr = (k + 1) % N;
            end
        end
    endtask

    initial begin
        ptr = 0;
        for (k = 0; k < N; k = k + 1) wait_cycles[k] = 0;
        step(1, 0);
        for (i = 0; i < 3 * N; i = i + 1) step(0, {N{1'b1}});  // all requesting: strict rotation
        for (i = 0; i < 2 * N; i = i + 1) step(0, 1 << (i % N));
        for (i = 0; i < 1200; i = i + 1) step(($random(seed) % 301) == 0, $random(seed) & $random(seed));
        step(0, 0);
        // reset asserted between clock edges: an asynchronous reset moves the pointer back to 0 at once
        step(0, {N{1'b1}});
        while (ptr == 0) step(0, {N{1'b1}});
        @(negedge clk);
        req = {N{1'b1}};
        {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (grant !== ({{(N-1){1'b0}}, 1'b1} << (ASYNC ? 0 : ptr))) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: grant=%b pointer was %0d", $time, grant, ptr);
        end
        step(1, 0);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
