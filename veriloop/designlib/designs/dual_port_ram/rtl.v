// {{DEPTH}} x {{WIDTH}} simple dual-port RAM, registered read-first output.
module dual_port_ram #(
    parameter WIDTH = {{WIDTH}},
    parameter DEPTH = {{DEPTH}},
    parameter AW = $clog2(DEPTH)
) (
    input  wire             clk,
    input  wire             we,
    input  wire [AW-1:0]    waddr,
    input  wire [WIDTH-1:0] wdata,
    input  wire             re,
    input  wire [AW-1:0]    raddr,
    output reg  [WIDTH-1:0] rdata
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];

    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        if (re) rdata <= mem[raddr];
    end
endmodule
