// Divide-by-{{DIV}} clock divider (registered output), {{RESET_DESC}}.
module clock_divider #(
    parameter DIV = {{DIV}},
    parameter W = $clog2(DIV)
) (
    input  wire clk,
    input  wire {{RST}},
    output reg  clk_out
);
    localparam [31:0] LAST32 = DIV - 1;
    localparam [31:0] HIGH32 = DIV / 2;
    localparam [W-1:0] LAST = LAST32[W-1:0];
    localparam [W:0] HIGH = HIGH32[W:0];

    reg  [W-1:0] cnt;
    wire [W-1:0] cnt_next = (cnt == LAST) ? {W{1'b0}} : cnt + 1'b1;

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            cnt     <= {W{1'b0}};
            clk_out <= 1'b1;
        end else begin
            cnt     <= cnt_next;
            clk_out <= ({1'b0, cnt_next} < HIGH);
        end
    end
endmodule
