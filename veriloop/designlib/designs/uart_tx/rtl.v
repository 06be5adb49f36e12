// UART transmitter: {{CLKS_PER_BIT}} clocks/bit, {{DATA_BITS}} data bits, parity {{PARITY}}, {{STOP_BITS}} stop bit(s), {{RESET_DESC}}.
module uart_tx #(
    parameter CLKS_PER_BIT = {{CLKS_PER_BIT}},
    parameter DATA_BITS = {{DATA_BITS}},
    parameter PARITY_EN = {{PARITY==none?0|1}},
    parameter PARITY_ODD = {{PARITY==odd?1|0}},
    parameter STOP_BITS = {{STOP_BITS}},
    parameter CW = $clog2(CLKS_PER_BIT)
) (
    input  wire                 clk,
    input  wire                 {{RST}},
    input  wire                 tx_start,
    input  wire [DATA_BITS-1:0] tx_data,
    output reg                  tx,
    output reg                  busy
);
    localparam [2:0] S_IDLE = 3'd0, S_START = 3'd1, S_DATA = 3'd2, S_PARITY = 3'd3, S_STOP = 3'd4;
    localparam [31:0] LAST32 = CLKS_PER_BIT - 1;
    localparam [CW-1:0] LAST = LAST32[CW-1:0];
    localparam [31:0] DLAST32 = DATA_BITS - 1;
    localparam [3:0] DLAST = DLAST32[3:0];
    localparam [31:0] SLAST32 = STOP_BITS - 1;
    localparam [3:0] SLAST = SLAST32[3:0];

    reg [2:0]           state;
    reg [CW-1:0]        clk_cnt;
    reg [3:0]           bit_idx;
    reg [DATA_BITS-1:0] shreg;
    reg                 par;

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            state   <= S_IDLE;
            clk_cnt <= {CW{1'b0}};
            bit_idx <= 4'd0;
            shreg   <= {DATA_BITS{1'b0}};
            par     <= 1'b0;
            tx      <= 1'b1;
            busy    <= 1'b0;
        end else if (state == S_IDLE) begin
            tx <= 1'b1;
            if (tx_start) begin
                shreg   <= tx_data;
                par     <= (^tx_data) ^ PARITY_ODD[0];
                busy    <= 1'b1;
                tx      <= 1'b0;           // start bit
                clk_cnt <= {CW{1'b0}};
                state   <= S_START;
            end
        end else if (clk_cnt != LAST) begin
            clk_cnt <= clk_cnt + 1'b1;
        end else begin
            clk_cnt <= {CW{1'b0}};
            case (state)
                S_START: begin
                    tx      <= shreg[0];
                    shreg   <= shreg >> 1;
                    bit_idx <= 4'd0;
                    state   <= S_DATA;
                end
                S_DATA: begin
                    if (bit_idx != DLAST) begin
                        tx      <= shreg[0];
                        shreg   <= shreg >> 1;
                        bit_idx <= bit_idx + 1'b1;
                    end else if (PARITY_EN != 0) begin
                        tx    <= par;
                        state <= S_PARITY;
                    end else begin
                        tx      <= 1'b1;
                        bit_idx <= 4'd0;
                        state   <= S_STOP;
                    end
                end
                S_PARITY: begin
                    tx      <= 1'b1;
                    bit_idx <= 4'd0;
                    state   <= S_STOP;
                end
                default: begin             // S_STOP
                    if (bit_idx != SLAST) begin
                        bit_idx <= bit_idx + 1'b1;
                    end else begin
                        busy  <= 1'b0;
                        state <= S_IDLE;
                    end
                end
            endcase
        end
    end
endmodule
