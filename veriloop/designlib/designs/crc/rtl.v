// CRC-{{CRC_WIDTH}}, poly {{POLY_HEX}}, init {{INIT_HEX}}, byte-wise MSB first, {{RESET_DESC}}.
module crc_gen #(
    parameter W = {{CRC_WIDTH}},
    parameter [W-1:0] POLY = {{POLY}},
    parameter [W-1:0] INIT = {{INIT}}
) (
    input  wire         clk,
    input  wire         {{RST}},
    input  wire         clear,
    input  wire         valid,
    input  wire [7:0]   data,
    output reg  [W-1:0] crc
);
    reg [W-1:0] next;
    integer i;

    // eight bit-serial steps unrolled into one combinational update
    always @* begin
        next = crc;
        for (i = 7; i >= 0; i = i - 1)
            next = (next[W-1] ^ data[i]) ? ((next << 1) ^ POLY) : (next << 1);
    end

    {{ALWAYS_FF}} begin
        if ({{RST_ON}})  crc <= INIT;
        else if (clear) crc <= INIT;
        else if (valid) crc <= next;
    end
endmodule
