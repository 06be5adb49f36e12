// SPI master, CPOL={{CPOL}} CPHA={{CPHA}}, {{DATA_BITS}}-bit MSB-first transfers, SCLK half period {{CLK_DIV}} clocks, {{RESET_DESC}}.
module spi_master #(
    parameter DATA_BITS = {{DATA_BITS}},
    parameter CLK_DIV = {{CLK_DIV}},
    parameter CPOL = {{CPOL}},
    parameter CPHA = {{CPHA}},
    parameter DW = (CLK_DIV > 1) ? $clog2(CLK_DIV) : 1,
    parameter EW = $clog2(2 * DATA_BITS + 1)
) (
    input  wire                 clk,
    input  wire                 {{RST}},
    input  wire                 start,
    input  wire [DATA_BITS-1:0] tx_data,
    output reg                  busy,
    output reg                  done,
    output reg  [DATA_BITS-1:0] rx_data,
    output reg                  sclk,
    output reg                  mosi,
    input  wire                 miso,
    output reg                  cs_n
);
    localparam [31:0] LAST32 = CLK_DIV - 1;
    localparam [DW-1:0] LAST = LAST32[DW-1:0];
    localparam [31:0] EDGES32 = 2 * DATA_BITS;
    localparam [EW-1:0] EDGES = EDGES32[EW-1:0];
    localparam POL = CPOL[0];

    reg [DATA_BITS-1:0] txs, rxs;
    reg [EW-1:0]        edges;    // sclk edges produced so far; even index = leading edge
    reg [DW-1:0]        div;
    wire                leading = ~edges[0];

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            busy    <= 1'b0;
            done    <= 1'b0;
            rx_data <= {DATA_BITS{1'b0}};
            sclk    <= POL;
            mosi    <= 1'b0;
            cs_n    <= 1'b1;
            txs     <= {DATA_BITS{1'b0}};
            rxs     <= {DATA_BITS{1'b0}};
            edges   <= {EW{1'b0}};
            div     <= {DW{1'b0}};
        end else begin
            done <= 1'b0;
            if (!busy) begin
                sclk <= POL;
                cs_n <= 1'b1;
                if (start) begin
                    busy  <= 1'b1;
                    cs_n  <= 1'b0;
                    edges <= {EW{1'b0}};
                    div   <= {DW{1'b0}};
                    if (CPHA == 0) begin
                        mosi <= tx_data[DATA_BITS-1];
                        txs  <= tx_data << 1;
                    end else begin
                        txs  <= tx_data;
                    end
                end
            end else if (div != LAST) begin
                div <= div + 1'b1;
            end else begin
                div <= {DW{1'b0}};
                if (edges != EDGES) begin
                    sclk  <= ~sclk;
                    edges <= edges + 1'b1;
                    if (leading == (CPHA == 0)) begin
                        rxs <= {rxs[DATA_BITS-2:0], miso};         // sampling edge
                    end else begin
                        mosi <= txs[DATA_BITS-1];                  // shifting edge
                        txs  <= txs << 1;
                    end
                end else begin
                    cs_n    <= 1'b1;
                    busy    <= 1'b0;
                    done    <= 1'b1;
                    rx_data <= rxs;
                end
            end
        end
    end
endmodule
