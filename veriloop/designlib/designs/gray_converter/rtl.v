// {{WIDTH}}-bit binary-to-Gray and Gray-to-binary converters (combinational).
module gray_converter #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire [WIDTH-1:0] bin_in,
    output wire [WIDTH-1:0] gray_out,
    input  wire [WIDTH-1:0] gray_in,
    output wire [WIDTH-1:0] bin_out
);
    assign gray_out = bin_in ^ (bin_in >> 1);

    genvar i;
    generate
        for (i = 0; i < WIDTH; i = i + 1) begin : g_bin
            assign bin_out[i] = ^(gray_in >> i);
        end
    endgenerate
endmodule
