// {{DEPTH}} x {{WIDTH}} register file, 2 read ports, 1 write port{{R0_ZERO?, register 0 reads as zero|}}.
module register_file #(
    parameter WIDTH = {{WIDTH}},
    parameter DEPTH = {{DEPTH}},
    parameter AW = $clog2(DEPTH)
) (
    input  wire             clk,
    input  wire             we,
    input  wire [AW-1:0]    waddr,
    input  wire [WIDTH-1:0] wdata,
    input  wire [AW-1:0]    raddr1,
    output wire [WIDTH-1:0] rdata1,
    input  wire [AW-1:0]    raddr2,
    output wire [WIDTH-1:0] rdata2
);
    reg [WIDTH-1:0] regs [0:DEPTH-1];

    always @(posedge clk) begin
// @if R0_ZERO
        if (we && waddr != {AW{1'b0}}) regs[waddr] <= wdata;
// @else
        if (we) regs[waddr] <= wdata;
// @endif
    end

// @if R0_ZERO
    assign rdata1 = (raddr1 == {AW{1'b0}}) ? {WIDTH{1'b0}} : regs[raddr1];
    assign rdata2 = (raddr2 == {AW{1'b0}}) ? {WIDTH{1'b0}} : regs[raddr2];
// @else
    assign rdata1 = regs[raddr1];
    assign rdata2 = regs[raddr2];
// @endif
endmodule
