// PWM generator with a period of {{PERIOD}} cycles, {{RESET_DESC}}.
module pwm #(
    parameter PERIOD = {{PERIOD}},
    parameter W = $clog2(PERIOD)
) (
    input  wire         clk,
    input  wire         {{RST}},
    input  wire [W-1:0] duty,
    output reg          pwm_out
);
    localparam [31:0] LAST32 = PERIOD - 1;
    localparam [W-1:0] LAST = LAST32[W-1:0];

    reg [W-1:0] cnt;

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            cnt     <= {W{1'b0}};
            pwm_out <= 1'b0;
        end else begin
            cnt     <= (cnt == LAST) ? {W{1'b0}} : cnt + 1'b1;
            pwm_out <= (cnt < duty);
        end
    end
endmodule
