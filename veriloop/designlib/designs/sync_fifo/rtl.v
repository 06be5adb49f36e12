// Synchronous FIFO, {{DEPTH}} x {{WIDTH}}, registered read data, {{RESET_DESC}}.
module sync_fifo #(
    parameter WIDTH = {{WIDTH}},
    parameter DEPTH = {{DEPTH}},
    parameter AW = $clog2(DEPTH)
) (
    input  wire             clk,
    input  wire             {{RST}},
    input  wire             wr_en,
    input  wire [WIDTH-1:0] din,
    output wire             full,
    input  wire             rd_en,
    output reg  [WIDTH-1:0] dout,
    output wire             empty,
    output reg  [AW:0]      count
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    reg [AW-1:0]    wptr, rptr;

    wire do_write = wr_en && !full;
    wire do_read  = rd_en && !empty;

    assign full  = (count == DEPTH[AW:0]);
    assign empty = (count == {(AW+1){1'b0}});

    always @(posedge clk) begin
        if (do_write) mem[wptr] <= din;
    end

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            wptr  <= {AW{1'b0}};
            rptr  <= {AW{1'b0}};
            count <= {(AW+1){1'b0}};
            dout  <= {WIDTH{1'b0}};
        end else begin
            if (do_write) wptr <= wptr + 1'b1;
            if (do_read) begin
                dout <= mem[rptr];
                rptr <= rptr + 1'b1;
            end
            if (do_write && !do_read)      count <= count + 1'b1;
            else if (do_read && !do_write) count <= count - 1'b1;
        end
    end
endmodule
