// {{WIDTH}}-bit Kogge-Stone parallel-prefix adder.
module prefix_adder #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire [WIDTH-1:0] a,
    input  wire [WIDTH-1:0] b,
    input  wire             cin,
    output wire [WIDTH-1:0] sum,
    output wire             cout
);
    // bit 0 of the prefix network is the carry-in; bit i+1 is operand bit i
    localparam N = WIDTH + 1;
    localparam LEVELS = $clog2(N);

    reg [N-1:0] g, p, g_prev, p_prev;
    integer l, i;

    // level l combines each bit with the bit 2^l below it: (g, p) o (g', p') = (g | p & g', p & p')
    always @* begin
        g = {a & b, cin};
        p = {a ^ b, 1'b0};
        for (l = 0; l < LEVELS; l = l + 1) begin
            g_prev = g;
            p_prev = p;
            for (i = 0; i < N; i = i + 1) begin
                if (i >= (1 << l)) begin
                    g[i] = g_prev[i] | (p_prev[i] & g_prev[i - (1 << l)]);
                    p[i] = p_prev[i] & p_prev[i - (1 << l)];
                end
            end
        end
    end

    // after the last level g[i] is the carry out of network bits [i:0], i.e. the carry into operand bit i
    assign sum  = (a ^ b) ^ g[WIDTH-1:0];
    assign cout = g[WIDTH];
endmodule
