// {{WIDTH}}-bit priority encoder, {{PRIORITY}} set bit wins.
module priority_encoder #(
    parameter WIDTH = {{WIDTH}},
    parameter IW = $clog2(WIDTH)
) (
    input  wire [WIDTH-1:0] in,
    output reg  [IW-1:0]    idx,
    output wire             valid
);
    integer k;

    assign valid = |in;

    always @* begin
        idx = {IW{1'b0}};
// @if PRIORITY==msb
        for (k = 0; k < WIDTH; k = k + 1)
// @else
        for (k = WIDTH - 1; k >= 0; k = k - 1)
// @endif
            if (in[k]) idx = k[IW-1:0];
    end
endmodule
