// {{WIDTH}}-bit {{SIGNED?signed|unsigned}} magnitude comparator.
module comparator #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire [WIDTH-1:0] a,
    input  wire [WIDTH-1:0] b,
    output wire             lt,
    output wire             eq,
    output wire             gt
);
    assign eq = (a == b);
// @if SIGNED
    assign lt = ($signed(a) < $signed(b));
// @else
    assign lt = (a < b);
// @endif
    assign gt = ~lt & ~eq;
endmodule
