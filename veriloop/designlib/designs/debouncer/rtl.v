// Debouncer: 2-FF synchroniser plus a {{STABLE}}-cycle stability counter, {{RESET_DESC}}.
module debouncer #(
    parameter STABLE = {{STABLE}},
    parameter W = (STABLE > 1) ? $clog2(STABLE) : 1
) (
    input  wire clk,
    input  wire {{RST}},
    input  wire noisy,
    output reg  clean
);
    localparam [31:0] LAST32 = STABLE - 1;
    localparam [W-1:0] LAST = LAST32[W-1:0];

    reg         s1, s2;
    reg [W-1:0] cnt;

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            s1    <= 1'b0;
            s2    <= 1'b0;
            cnt   <= {W{1'b0}};
            clean <= 1'b0;
        end else begin
            s1 <= noisy;
            s2 <= s1;
            if (s2 == clean) begin
                cnt <= {W{1'b0}};
            end else if (cnt == LAST) begin
                cnt   <= {W{1'b0}};
                clean <= s2;
            end else begin
                cnt <= cnt + 1'b1;
            end
        end
    end
endmodule
