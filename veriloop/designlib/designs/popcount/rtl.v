// Population count of a {{WIDTH}}-bit input.
module popcount #(
    parameter WIDTH = {{WIDTH}},
    parameter CW = $clog2(WIDTH + 1)
) (
    input  wire [WIDTH-1:0] in,
    output reg  [CW-1:0]    count
);
    integer k;

    always @* begin
        count = {CW{1'b0}};
        for (k = 0; k < WIDTH; k = k + 1)
            count = count + {{(CW-1){1'b0}}, in[k]};
    end
endmodule
