// {{PARITY}} parity generator and checker over {{WIDTH}} bits.
module parity_gen #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire [WIDTH-1:0] data,
    input  wire             parity_in,
    output wire             parity,
    output wire             error
);
// @if PARITY==even
    assign parity = ^data;
// @else
    assign parity = ~^data;
// @endif
    assign error = parity_in ^ parity;
endmodule
