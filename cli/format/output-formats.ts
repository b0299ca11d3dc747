/** The -o choices of `get` and `convert`, apart from the commands so that the program can offer them without loading either. */
export const OUTPUT_FORMATS = ['wide', 'yaml', 'json', 'name'] as const;
export const CONVERT_OUTPUT_FORMATS = ['yaml', 'json'] as const;
