// {{WIDTH}}-bit ripple-carry adder: a chain of full-adder cells, carry rippling from bit 0 upwards.
module ripple_carry_adder #(
    parameter WIDTH = {{WIDTH}}
) (
    input  wire [WIDTH-1:0] a,
    input  wire [WIDTH-1:0] b,
    input  wire             cin,
    output reg  [WIDTH-1:0] sum,
    output reg              cout
);
    integer i;
    reg     c;

    always @* begin
        c = cin;
        for (i = 0; i < WIDTH; i = i + 1) begin
            // full adder cell i
            sum[i] = a[i] ^ b[i] ^ c;
            c      = (a[i] & b[i]) | (c & (a[i] ^ b[i]));
        end
        cout = c;
    end
endmodule
