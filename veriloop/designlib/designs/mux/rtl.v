// {{N}}-to-1 multiplexer of {{WIDTH}}-bit inputs; out-of-range selects give 0.
module mux #(
    parameter N = {{N}},
    parameter WIDTH = {{WIDTH}},
    parameter SW = $clog2(N)
) (
    input  wire [N*WIDTH-1:0] in,
    input  wire [SW-1:0]      sel,
    output reg  [WIDTH-1:0]   out
);
    integer k;

    always @* begin
        out = {WIDTH{1'b0}};
        for (k = 0; k < N; k = k + 1)
            if (sel == k[SW-1:0]) out = in[k*WIDTH +: WIDTH];
    end
endmodule
