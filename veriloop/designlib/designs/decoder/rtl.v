// {{IN_BITS}}-to-2^{{IN_BITS}} one-hot decoder{{ENABLE? with enable `en`|}}.
module decoder #(
    parameter IN_BITS = {{IN_BITS}}
) (
    input  wire [IN_BITS-1:0]      in,
// @if ENABLE
    input  wire                    en,
// @endif
    output wire [(1<<IN_BITS)-1:0] out
);
    localparam [(1<<IN_BITS)-1:0] ONE = 1;
// @if ENABLE
    assign out = en ? (ONE << in) : {(1<<IN_BITS){1'b0}};
// @else
    assign out = ONE << in;
// @endif
endmodule
