// {{WIDTH}}-bit Gray-code counter, {{RESET_DESC}}{{ENABLE?, enable `en`|}}.
module gray_counter #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire             clk,
    input  wire             {{RST}},
// @if ENABLE
    input  wire             en,
// @endif
    output reg  [WIDTH-1:0] gray
);
    reg  [WIDTH-1:0] bin;
    wire [WIDTH-1:0] bin_next = bin + 1'b1;

    {{ALWAYS_FF}} begin
        if ({{RST_ON}}) begin
            bin  <= {WIDTH{1'b0}};
            gray <= {WIDTH{1'b0}};
// @if ENABLE
        end else if (en) begin
// @else
        end else begin
// @endif
            bin  <= bin_next;
            gray <= bin_next ^ (bin_next >> 1);
        end
    end
endmodule
