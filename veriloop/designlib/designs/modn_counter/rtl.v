// Modulo-{{N}} counter, {{RESET_DESC}}{{ENABLE?, enable `en`|}}.
module modn_counter #(
    parameter N = {{N}},
    parameter W = (N > 2) ? $clog2(N) : 1
) (
    input  wire         clk,
    input  wire         {{RST}},
// @if ENABLE
    input  wire         en,
// @endif
    output reg  [W-1:0] q,
    output wire         tc
);
    localparam [31:0] LAST32 = N - 1;
    localparam [W-1:0] LAST = LAST32[W-1:0];

    assign tc = (q == LAST);

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            q <= {W{1'b0}};
// @if ENABLE
        end else if (en) begin
// @else
        end else begin
// @endif
            if (q == LAST) q <= {W{1'b0}};
            else           q <= q + 1'b1;
        end
    end
endmodule
