// {{WIDTH}}x{{WIDTH}} {{SIGNED?signed|unsigned}} combinational multiplier with a full-width product.
module multiplier #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire [WIDTH-1:0]   a,
    input  wire [WIDTH-1:0]   b,
    output wire [2*WIDTH-1:0] p
);
// @if SIGNED
    assign p = $signed(a) * $signed(b);
// @else
    assign p = a * b;
// @endif
endmodule
