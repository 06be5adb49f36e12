// Asynchronous FIFO, {{DEPTH}} x {{WIDTH}}, Gray-coded pointers with 2-FF synchronisers.
module async_fifo #(
    parameter WIDTH = {{WIDTH}},
    parameter DEPTH = {{DEPTH}},
    parameter AW = $clog2(DEPTH)
) (
    input  wire             wclk,
    input  wire             wrst_n,
    input  wire             winc,
    input  wire [WIDTH-1:0] wdata,
    output reg              wfull,
    input  wire             rclk,
    input  wire             rrst_n,
    input  wire             rinc,
    output wire [WIDTH-1:0] rdata,
    output reg              rempty
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];

    // ---------------- write domain ----------------
    reg  [AW:0] wbin, wgray;
    reg  [AW:0] wq1_rgray, wq2_rgray;  // read pointer synchronised into wclk
    wire [AW:0] wbin_next  = wbin + {{AW{1'b0}}, (winc && !wfull)};
    wire [AW:0] wgray_next = (wbin_next >> 1) ^ wbin_next;
    // full: next write pointer equals the read pointer with the two MSBs inverted (Gray domain)
    wire        wfull_next = (wgray_next == {~wq2_rgray[AW:AW-1], wq2_rgray[AW-2:0]});

    always @(posedge wclk) begin
        if (winc && !wfull) mem[wbin[AW-1:0]] <= wdata;
    end

    always @(posedge wclk or negedge wrst_n) begin
        if (!wrst_n) begin
            wbin      <= {(AW+1){1'b0}};
            wgray     <= {(AW+1){1'b0}};
            wq1_rgray <= {(AW+1){1'b0}};
            wq2_rgray <= {(AW+1){1'b0}};
            wfull     <= 1'b0;
        end else begin
            wbin      <= wbin_next;
            wgray     <= wgray_next;
            wfull     <= wfull_next;
            wq1_rgray <= rgray;
            wq2_rgray <= wq1_rgray;
        end
    end

    // ---------------- read domain ----------------
    reg  [AW:0] rbin, rgray;
    reg  [AW:0] rq1_wgray, rq2_wgray;  // write pointer synchronised into rclk
    wire [AW:0] rbin_next  = rbin + {{AW{1'b0}}, (rinc && !rempty)};
    wire [AW:0] rgray_next = (rbin_next >> 1) ^ rbin_next;
    wire        rempty_next = (rgray_next == rq2_wgray);

    assign rdata = mem[rbin[AW-1:0]];

    always @(posedge rclk or negedge rrst_n) begin
        if (!rrst_n) begin
            rbin      <= {(AW+1){1'b0}};
            rgray     <= {(AW+1){1'b0}};
            rq1_wgray <= {(AW+1){1'b0}};
            rq2_wgray <= {(AW+1){1'b0}};
            rempty    <= 1'b1;
        end else begin
            rbin      <= rbin_next;
            rgray     <= rgray_next;
            rempty    <= rempty_next;
            rq1_wgray <= wgray;
            rq2_wgray <= rq1_wgray;
        end
    end
endmodule
