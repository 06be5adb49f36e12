// UART receiver: {{CLKS_PER_BIT}} clocks/bit, {{DATA_BITS}} data bits, parity {{PARITY}}, {{STOP_BITS}} stop bit(s), {{RESET_DESC}}.
module uart_rx #(
    parameter CLKS_PER_BIT = {{CLKS_PER_BIT}},
    parameter DATA_BITS = {{DATA_BITS}},
    parameter PARITY_EN = {{PARITY==none?0|1}},
    parameter PARITY_ODD = {{PARITY==odd?1|0}},
    parameter CW = $clog2(CLKS_PER_BIT)
) (
    input  wire                 clk,
    input  wire                 {{RST}},
    input  wire                 rx,
    output reg  [DATA_BITS-1:0] rx_data,
    output reg                  rx_valid,
    output reg                  rx_error
);
    localparam [2:0] S_IDLE = 3'd0, S_START = 3'd1, S_DATA = 3'd2, S_PARITY = 3'd3, S_STOP = 3'd4, S_BREAK = 3'd5;
    localparam [31:0] LAST32 = CLKS_PER_BIT - 1;
    localparam [31:0] HALF32 = CLKS_PER_BIT / 2 - 1;
    localparam [CW-1:0] LAST = LAST32[CW-1:0];
    localparam [CW-1:0] HALF = HALF32[CW-1:0];
    localparam [31:0] DLAST32 = DATA_BITS - 1;
    localparam [3:0] DLAST = DLAST32[3:0];

    reg                 s1, s2;
    reg [2:0]           state;
    reg [CW-1:0]        clk_cnt;
    reg [3:0]           bit_idx;
    reg [DATA_BITS-1:0] shreg;
    reg                 par_ok;

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            s1       <= 1'b1;
            s2       <= 1'b1;
            state    <= S_IDLE;
            clk_cnt  <= {CW{1'b0}};
            bit_idx  <= 4'd0;
            shreg    <= {DATA_BITS{1'b0}};
            par_ok   <= 1'b1;
            rx_data  <= {DATA_BITS{1'b0}};
            rx_valid <= 1'b0;
            rx_error <= 1'b0;
        end else begin
            s1       <= rx;
            s2       <= s1;
            rx_valid <= 1'b0;
            rx_error <= 1'b0;
            case (state)
                S_IDLE: begin
                    clk_cnt <= {CW{1'b0}};
                    if (!s2) state <= S_START;
                end
                S_START: begin
                    if (clk_cnt != HALF) begin
                        clk_cnt <= clk_cnt + 1'b1;
                    end else begin
                        clk_cnt <= {CW{1'b0}};
                        bit_idx <= 4'd0;
                        par_ok  <= 1'b1;
                        state   <= s2 ? S_IDLE : S_DATA;   // glitch: not a start bit
                    end
                end
                S_DATA: begin
                    if (clk_cnt != LAST) begin
                        clk_cnt <= clk_cnt + 1'b1;
                    end else begin
                        clk_cnt <= {CW{1'b0}};
                        shreg   <= {s2, shreg[DATA_BITS-1:1]};
                        bit_idx <= bit_idx + 1'b1;
                        if (bit_idx == DLAST) state <= (PARITY_EN != 0) ? S_PARITY : S_STOP;
                    end
                end
                S_PARITY: begin
                    if (clk_cnt != LAST) begin
                        clk_cnt <= clk_cnt + 1'b1;
                    end else begin
                        clk_cnt <= {CW{1'b0}};
                        par_ok  <= ((^shreg) ^ s2) == PARITY_ODD[0];
                        state   <= S_STOP;
                    end
                end
                S_STOP: begin
                    if (clk_cnt != LAST) begin
                        clk_cnt <= clk_cnt + 1'b1;
                    end else begin
                        clk_cnt <= {CW{1'b0}};
                        if (s2 && par_ok) begin
                            rx_data  <= shreg;
                            rx_valid <= 1'b1;
                        end else begin
                            rx_error <= 1'b1;
                        end
                        state <= s2 ? S_IDLE : S_BREAK;
                    end
                end
                default: begin             // S_BREAK: wait for the line to go idle
                    if (s2) state <= S_IDLE;
                end
            endcase
        end
    end
endmodule
